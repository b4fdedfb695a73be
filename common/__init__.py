"""Helpers shared by the pytest suite (`fixtures`) and the offline build (`offline`).

Nothing here knows about pytest or about a particular component: how to run a
process (with a bound, and an error that shows what it said), how to stop one,
where the cache lives, what the version pins are, how to ask Docker about
images and containers, and the error type a user can act on.
"""
