"""The one-command demo (`leadbase demo`): it sits above every other app, so it may fill each
of them with sample data (leads, forms, ...) through their own services."""
