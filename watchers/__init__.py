"""watchers"""
