"""Perception: motion evidence from video (camera-motion compensation, segmentation, ground-truth clip suite)."""
