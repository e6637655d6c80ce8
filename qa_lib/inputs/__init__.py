"""Inputs: params, periods, grade scales, reading files, validation, privacy and the Dataset.

Everything a report needs arrives through :func:`qa_lib.inputs.data.load_dataset`: validated,
pseudonymised tables plus the issues table, from the files the params name.
"""
