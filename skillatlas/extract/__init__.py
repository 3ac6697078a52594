"""Skill extraction: text, tokens, phrase matching, embeddings, structure, offline and LLM extractors."""
