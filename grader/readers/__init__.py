"""Readers for submissions: the CSV table reader every export goes through (:mod:`.csvfile`), a plain letters CSV
and one student's YAML/JSON (:mod:`.plain`), pins for ambiguous texts (:mod:`.pins`) and the tolerant text match
(:mod:`.textmatch`); :mod:`.formats` picks the reader of a file (an LMS's quiz export among them, :mod:`grader.lms`).
"""
from .pins import MatchPins, load_pins

__all__ = ["MatchPins", "load_pins"]
