"""Exam-office dashboard for the 1+X 数字营销技术应用 certificate."""

__version__ = "0.1.0"
