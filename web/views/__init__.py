"""The pages, one module per area; each handler checks one named permission, calls workflows.*, renders."""
