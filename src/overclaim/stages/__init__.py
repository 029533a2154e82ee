"""The analysis stages, one module each, in the order the pipeline runs them.

normalize, segment, evidence, stance, certainty, sourcing, sensational, match, verdict.
"""
