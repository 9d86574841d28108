# The programs are run by test_programs.py (twice: with torch and with chainrule), never
# imported by pytest itself (`make test` collects with --doctest-modules).
collect_ignore = ["programs"]
