"""The scoring maths (rules, decay, classification, features, training, explanation).

Pure Python + numpy/scikit-learn: this package never imports Django (an import-linter contract
in pyproject.toml checks it). It is filled by the scoring issues; the Django side (`scoring`
app) will load rule sets and leads, call into here, and write the results back.
"""
