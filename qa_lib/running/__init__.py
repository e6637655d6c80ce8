"""Running: render one report (papermill + nbconvert), batch runs, the ``qa-workbook`` CLI, the
explorer app and the demo data generator."""
