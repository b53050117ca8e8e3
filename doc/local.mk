# doc: the manual (Lua API), tutorial, architecture notes and man page.
dist_doc_DATA += doc/manual.md doc/tutorial.md doc/architecture.md
