"""What each page shows, one module per page named like its script in app_pages/.

Each module turns named queries (through the runner it is given) into the frames, metrics and texts
its page renders, and carries the page's actions (a review decision, an import) to the domain. Shared
pieces: `common` (filters, tables, headers), `exports` (.xlsx / .csv files). It may import the store's
runner, the domain and the importers; never streamlit and never `examdash.web`, so every view is
tested in plain pytest with a runner over a connection.
"""
