"""LLM providers behind one contract, and the resilience wrapped around every one of them."""
