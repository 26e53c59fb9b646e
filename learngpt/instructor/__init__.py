"""For instructors and study groups: the class report over many learners' workspaces.

learners.py finds the workspaces and reads each learner's progress as `course progress` shows
it; verify.py re-runs their checks in a temporary copy (the learner's code, the course's
tests); views.py groups the class by step; formats.py writes the report as a table, CSV, JSON or
one HTML page. checker.py is the only module here that calls the course checker
(learngpt.exercises): everything the report knows about a workspace passes through it.
"""

FORMATS = ("table", "csv", "json", "html")  # the report's formats (classreport.render)
