# Metadata lives in pyproject.toml; this shim keeps older tooling working.
from setuptools import setup

setup()
