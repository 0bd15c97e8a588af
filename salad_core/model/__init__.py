"""The speech-adapted LLM: adapter config and presets, the adapter, the LLM factory, batching.

Usage:
    from salad_core.model import AdapterConfig, SpeechAdapter, SpeechLM, collate_samples
    from salad_core.model import tiny_qwen2_config, llm_from_config, load_llm
"""

from salad_core.model.adapter import SpeechAdapter, count_parameters
from salad_core.model.batch import DistillBatch, collate_samples
from salad_core.model.config import ADAPTER_PRESETS, AdapterConfig
from salad_core.model.llm import llm_from_config, load_llm, tiny_qwen2_config
from salad_core.model.speech_lm import SpeechLM

__all__ = [
    "ADAPTER_PRESETS",
    "AdapterConfig",
    "DistillBatch",
    "SpeechAdapter",
    "SpeechLM",
    "collate_samples",
    "count_parameters",
    "llm_from_config",
    "load_llm",
    "tiny_qwen2_config",
]
