"""Foundation: errors, atomic file writes, the one label key and the one number formatter.

Nothing here imports another part of qa_lib.
"""
