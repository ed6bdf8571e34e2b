"""Department screening (部门筛查预警, DOMAIN.md §6): uploads, matching and warnings.

An empty shell for now; its models arrive with the screening issue."""
