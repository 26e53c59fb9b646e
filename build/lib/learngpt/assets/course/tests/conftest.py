"""The course's fixtures (the text, its tokenizer, the config) and helpers come from learngpt."""

pytest_plugins = ["learngpt.exercises.testkit"]
