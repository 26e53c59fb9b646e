"""The fixtures every test file may use (the course's text, tokenizer, config, splits) come from
the course's test kit, which a learner's workspace loads too.
"""

pytest_plugins = ["learngpt.exercises.testkit"]
