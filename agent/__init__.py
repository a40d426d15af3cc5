"""Lisa's dialogue engine: conversation state, persona, tools and the brains that drive them.

Nothing in this package knows about HTTP, audio or pipecat; channels (chat API, phone pipeline)
drive an :class:`agent.engine.Engine` with text in and sentence-sized text chunks out.
"""
