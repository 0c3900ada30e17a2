"""The chaos suite: a scripted multi-year load over HTTP while processes, the broker and the database fail."""
