"""graftzoo-vision: image heads, tasks, data and the xresnet family."""
