"""graftzoo.learner"""
