"""Presentation: what a reader sees — accessible HTML tables, charts, disclosure control, the Report.

``from qa_lib.present import pct, html_table, compact`` (the former ``qa_lib.present`` module's
names) still work: they are re-exported from :mod:`qa_lib.present.html_tables`.
"""

from qa_lib.present.html_tables import (LABELS, SMALL_N_MARK, compact, display_frame, format_cell,  # noqa: F401
                                        html_table, is_share, label, pct)
