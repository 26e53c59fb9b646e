"""The course as exercises: a learner's workspace made from the reference, and the tools to work
through it (check, progress, hints, solutions, watch). `learngpt course ...` is the command line.
"""
