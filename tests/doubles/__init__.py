"""Stand-ins the tests share, one copy each: carriers, call hooks, brains, the party's voice, text conversations
with the engine, a call's record, access tokens, the children of a process. Imported as ``from doubles.<module> import …``
(``tests/`` is on the path). The local servers that speak a cloud service's wire protocol are not here: they
live in ``tests/fakes/``."""
