"""Report content: what each section of a report says, as tidy full-precision tables and sentences.

Each module takes a :class:`qa_lib.inputs.data.Dataset` and returns frames (shares as fractions)
or plain-English sentences built with :mod:`qa_lib.core.fmt`; presentation happens in ``present``.
"""
