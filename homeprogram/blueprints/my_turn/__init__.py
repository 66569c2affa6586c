"""The child's own screen, "My turn": today's activities as big picture cards, steps one at
a time, "I did it!", a jar of stars, and a lock only a grown-up can open (issue 19)."""
