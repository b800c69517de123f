from rapport.core import bench

# The people of data set M.
bench.register_table("accounts.User")
bench.register_table("accounts.Team")
