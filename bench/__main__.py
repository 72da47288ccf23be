"""Run every benchmark: ``python -m bench``."""

from bench import pages

if __name__ == "__main__":
    pages.main()
