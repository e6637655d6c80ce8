"""Statistics: agreement, proportions and their tests, Making Data Count SPC, and the change verdict.

Each function takes plain arrays or frames with an explicit category set and returns a frozen
result (:mod:`qa_lib.stats.results`); nothing here knows about params, files or reports.
"""
