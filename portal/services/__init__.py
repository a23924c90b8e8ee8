"""Services: every call to repovizz2 and every operation on a datapack, for the views to use."""
