"""Form submissions (表单提交): one-time form tokens, so that a form that issues something issues it once."""
