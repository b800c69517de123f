# Django's Vietnamese formats name a thousands separator but no grouping, so 2992892 came out ungrouped;
# Vietnamese writes 2.992.892. Everything else comes from Django's module.
NUMBER_GROUPING = 3
