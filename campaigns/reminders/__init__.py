"""Reminders (domain.md §10): the obligations calendar, due-item sources, the planner and dispatch.

* ``calendar``  pure date arithmetic of recurring obligations (periods, keys, due dates)
* ``sources``   each kind of thing that falls due (entries, rectifications, obligations ...)
* ``planner``   rules × due items × people resolved through the tree → planned reminders (no writes)
* ``dispatch``  the daily run: fan-out per 机关党委, the log written before sending, digests
* ``defaults``  the rules and obligations that ship with the product
"""
