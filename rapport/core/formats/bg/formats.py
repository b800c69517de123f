# Django's Bulgarian formats name a thousands separator but no grouping, so 2992892 came out ungrouped;
# Bulgarian writes 2 992 892. Everything else comes from Django's module.
NUMBER_GROUPING = 3
