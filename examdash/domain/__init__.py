"""The rules of the exam office: what the notice and the organisation decide, not how pages show it.

Plain rule modules with no database: ID numbers and masking (`ids`), money in fen (`money`), the
exam plan and each batch's calendar (`plan`), the fixed vocabularies and formulas (`rules`: levels,
pass rules, review statuses and reasons, roles) and the Chinese labels of every column (`glossary`).
Workflows that write through the store: accounts and logins (`auth`), fees and payment matching
(`fees`), the publicity week's review requests, decisions and sign-offs (`reviews`). It may import
`examdash.config` and `examdash.store`; never pandas display logic for a page, never streamlit.
"""
