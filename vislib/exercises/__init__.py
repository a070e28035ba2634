"""Checkers for the notebooks' exercises, one module per topic.

Each ``check_*`` function calls a student's implementation on many inputs, compares with an established oracle
(``torch.nn``, ``torchvision.ops``, ``pycocotools``) and raises ``AssertionError`` with a message that names the
first failing input and, where it can tell, the likely mistake.
"""
