"""nbgrader's settings for this course: `make student`, `make grade` (README, "For teachers").

notebooks/ is the teacher's edition and nbgrader's source: the assignment "notebooks" of a
course whose root is this folder. The student edition is written to build/release/notebooks/
(`make student` copies it into student/ without overwriting anything). Submissions are read from
grading/submitted/<student id>/notebooks/; the gradebook, the autograded copies and the feedback
stay in grading/ (git-ignored, and `make clean` leaves it alone).
"""

import os

c = get_config()  # noqa: F821 (nbgrader defines get_config when it reads this file)
ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "."  # the source of assignment "notebooks" is ./notebooks
c.CourseDirectory.release_directory = os.path.join("build", "release")
c.CourseDirectory.submitted_directory = os.path.join("grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grading", "feedback")
c.CourseDirectory.solution_directory = os.path.join("grading", "solution")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "grading", "gradebook.db")

# The course's solution markers are nbgrader's default delimiters ("BEGIN SOLUTION" anywhere in a
# line). A student's cell keeps them around a placeholder, as the exercises' text describes; a
# questionnaire's model answers become a cell for the student's own answers.
c.ClearSolutions.code_stub = {"python": "# BEGIN SOLUTION\nanswer = ...  # your answer\n"
                                        "# END SOLUTION"}
c.ClearSolutions.text_stub = ("*Your answers: a few sentences for each question, numbered as "
                              "above (double-click this cell to edit it).*")

# Autograding: a cell that loops forever is interrupted after this many seconds and scored as an
# error; the longest cell of a correct notebook takes a few seconds.
c.Execute.timeout = 120
