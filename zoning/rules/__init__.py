"""The law as data: verdict rules, 三线一单 access lists, industry codes."""
