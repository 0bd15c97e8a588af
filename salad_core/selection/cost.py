"""Cost and ETA before launch: audio hours, compute time per stage and storage, from throughputs.

Usage:
    estimate = estimate_cost(Workload(docs_to_embed=9_672_101, natural_speech_hours=141_600,
                                      synthetic_speech_hours=1_416, train_tokens=25.9e9), MEASURED_CPU)
    print(cost_markdown(estimate))
    check_budget(estimate, max_device_hours=500)               # raises CostOverBudget unless override=True
    print(cost_markdown(paper_scale_3b()))                     # the README table

Every figure comes from a Throughput with its device and where it came from: `measured` ones are
the Benchmarks section of README.md (this repository's 2-core development machine); the others
are stated assumptions (e.g. training throughput from FLOPs and a utilisation), labelled as such
in the table. Device time is per single device (one 2-core machine, one GPU); wall time divides it
by the devices the stage is given, assuming linear scaling (the pool and shard design allows it;
it is not measured beyond 2 actors).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SECONDS_PER_HOUR = 3600.0
MIMI_FRAME_RATE = 12.5
MIMI_CODEBOOKS = 8


class Throughput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    unit: str = Field(description="work units per second: docs, audio-s, tokens")
    per_second: float = Field(gt=0)
    device: str = Field(description="what one device is, e.g. 'CPU, 2 cores' or 'GPU (H100)'")
    source: str = Field(description="benchmark and README row, or the assumption made")
    measured: bool


# README.md, Benchmarks (2-core development machine, Python 3.11, torch 2.13 CPU)
MEASURED_CPU: dict[str, Throughput] = {
    "embed": Throughput(stage="embed", unit="docs", per_second=13.6, device="CPU, 2 cores", measured=True,
                        source="bench_embed_cluster.py: all-MiniLM-L6-v2, 600 docs, 13.6 docs/s"),
    "tts": Throughput(stage="tts", unit="audio-s", per_second=1 / 0.45, device="CPU, 2 cores", measured=True,
                      source="bench_tts.py --kokoro-random: Kokoro-82M architecture, real-time factor 0.45 (2 threads)"),
    "tts_espeak": Throughput(stage="tts_espeak", unit="audio-s", per_second=1430.0, device="CPU, 2 cores", measured=True,
                             source="bench_tts.py: espeak-ng, Ray pool of 2 actors, 1,430 audio-s per wall-s"),
    "tokenize": Throughput(stage="tokenize", unit="audio-s", per_second=29.2, device="CPU, 2 cores", measured=True,
                           source="bench_mimi.py: Mimi encoder, 2 threads, 6 s clips, 29.2 audio-s/s"),
    "train": Throughput(stage="train", unit="tokens", per_second=2000.0, device="CPU, 2 cores", measured=True,
                        source="field notes: tiny Qwen2 (8k vocabulary) trains at 2k-10k tokens/s; low end taken"),
}


def flops_training_throughput(llm_params: float, adapter_params: float, peak_flops: float, utilisation: float) -> float:
    """Tokens/s of one distillation step: 6·N per token for the trained student (LLM + adapter),
    2·N for the frozen teacher's forward pass, at `utilisation` of the device's peak."""
    flops_per_token = 6.0 * (llm_params + adapter_params) + 2.0 * llm_params
    return peak_flops * utilisation / flops_per_token


class Workload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    docs_to_embed: int = Field(ge=0)
    natural_speech_hours: float = Field(ge=0, description="natural speech to tokenize (Mimi)")
    synthetic_speech_hours: float = Field(ge=0, description="probe + selection to synthesise and tokenize")
    train_tokens: float = Field(ge=0, description="Stage I + Stage II training tokens")
    embedding_dim: int = Field(default=1024, ge=1)
    flac_bytes_per_second: float = Field(default=24_000.0, gt=0, description="24 kHz 16-bit mono FLAC, assumed 2:1 compression")


class StageCost(BaseModel):
    stage: str
    amount: float
    unit: str
    throughput: Throughput
    devices: int
    storage_bytes: float

    @property
    def device_hours(self) -> float:
        return self.amount / self.throughput.per_second / SECONDS_PER_HOUR

    @property
    def wall_hours(self) -> float:
        return self.device_hours / self.devices


class CostEstimate(BaseModel):
    stages: list[StageCost]
    assumptions: list[str] = Field(default_factory=list)

    @property
    def device_hours(self) -> float:
        return sum(s.device_hours for s in self.stages)

    @property
    def storage_bytes(self) -> float:
        return sum(s.storage_bytes for s in self.stages)


def estimate_cost(workload: Workload, throughputs: dict[str, Throughput], devices: dict[str, int] | None = None) -> CostEstimate:
    """One row per stage: embed, synthesise, tokenize (natural + synthetic), train."""
    missing = {"embed", "tts", "tokenize", "train"} - set(throughputs)
    if missing:
        raise ValueError(f"throughputs lack the stage(s) {sorted(missing)}")
    devices = {"embed": 1, "tts": 1, "tokenize": 1, "train": 1, **(devices or {})}
    bad = {k: v for k, v in devices.items() if v < 1}
    if bad:
        raise ValueError(f"device counts must be >= 1, got {bad}")
    speech_s = (workload.natural_speech_hours + workload.synthetic_speech_hours) * SECONDS_PER_HOUR
    synthetic_s = workload.synthetic_speech_hours * SECONDS_PER_HOUR
    stages = [
        StageCost(stage="embed", amount=workload.docs_to_embed, unit="docs", throughput=throughputs["embed"], devices=devices["embed"],
                  storage_bytes=workload.docs_to_embed * workload.embedding_dim * 4.0),
        StageCost(stage="tts", amount=synthetic_s, unit="audio-s", throughput=throughputs["tts"], devices=devices["tts"],
                  storage_bytes=synthetic_s * workload.flac_bytes_per_second),
        StageCost(stage="tokenize", amount=speech_s, unit="audio-s", throughput=throughputs["tokenize"], devices=devices["tokenize"],
                  storage_bytes=speech_s * MIMI_FRAME_RATE * MIMI_CODEBOOKS * 2.0),
        StageCost(stage="train", amount=workload.train_tokens, unit="tokens", throughput=throughputs["train"], devices=devices["train"],
                  storage_bytes=0.0),
    ]
    return CostEstimate(stages=stages)


class CostOverBudget(RuntimeError):
    pass


def check_budget(estimate: CostEstimate, max_device_hours: float | None, override: bool = False) -> None:
    """Refuse to launch when the estimate exceeds the budget, unless explicitly overridden."""
    if max_device_hours is None or override or estimate.device_hours <= max_device_hours:
        return
    worst = max(estimate.stages, key=lambda s: s.device_hours)
    raise CostOverBudget(
        f"estimated {estimate.device_hours:,.1f} device-hours exceed the budget of {max_device_hours:,.1f} "
        f"(largest: {worst.stage}, {worst.device_hours:,.1f} h on {worst.throughput.device}); "
        "raise the budget or pass override=True to launch anyway"
    )


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000.0
    return f"{n:,.1f} PB"


def work(amount: float, unit: str) -> str:
    if unit == "audio-s":
        return f"{amount / SECONDS_PER_HOUR:,.0f} h of audio"
    if unit == "tokens" and amount >= 1e9:
        return f"{amount / 1e9:,.1f}B tokens"
    return f"{amount:,.0f} {unit}"


def cost_markdown(estimate: CostEstimate) -> str:
    lines = [
        "| stage | work | throughput per device | device | device-hours | devices | wall-clock | storage | figure |",
        "|---|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for s in estimate.stages:
        t = s.throughput
        lines.append(
            f"| {s.stage} | {work(s.amount, s.unit)} | {t.per_second:,.1f} {t.unit}/s | {t.device} | {s.device_hours:,.0f} | "
            f"{s.devices} | {s.wall_hours:,.1f} h | {human_bytes(s.storage_bytes) if s.storage_bytes else '–'} | "
            f"{'measured' if t.measured else 'assumed'}: {t.source} |"
        )
    per_device: dict[str, float] = {}
    for s in estimate.stages:
        per_device[s.throughput.device] = per_device.get(s.throughput.device, 0.0) + s.device_hours
    totals = "; ".join(f"{d}: {h:,.0f}" for d, h in per_device.items())
    lines.append(f"| **total** | | | | **{totals}** | | | **{human_bytes(estimate.storage_bytes)}** | |")
    if estimate.assumptions:
        lines += ["", "Assumptions:", *[f"- {a}" for a in estimate.assumptions]]
    return "\n".join(lines) + "\n"


# FineWeb-Edu sample/10BT: 9,672,101 documents (its dataset card); bge-large-en-v1.5 is 335M
# parameters against all-MiniLM-L6-v2's 22.7M, and embedding cost scales with parameters per token.
FINEWEB_10BT_DOCS = 9_672_101
BGE_LARGE_OVER_MINILM = 335.0 / 22.7
QWEN25_3B_PARAMS, ADAPTER_PARAMS = 3.09e9, 0.122e9
H100_BF16_PEAK, ASSUMED_UTILISATION = 989e12, 0.40


def paper_scale_3b(gpus: int = 64, cpu_machines: int = 64) -> CostEstimate:
    """The 3b preset at paper scale: 141.6k h natural speech, FineWeb-Edu 10BT, 24B + 1.9B tokens."""
    embed_cpu = MEASURED_CPU["embed"]
    throughputs = {
        "embed": Throughput(stage="embed", unit="docs", per_second=embed_cpu.per_second / BGE_LARGE_OVER_MINILM, device="CPU, 2 cores",
                            measured=False, source=f"MiniLM's measured 13.6 docs/s ÷ {BGE_LARGE_OVER_MINILM:.1f} (bge-large / MiniLM parameters)"),
        "tts": MEASURED_CPU["tts"],
        "tokenize": MEASURED_CPU["tokenize"],
        "train": Throughput(stage="train", unit="tokens", per_second=flops_training_throughput(QWEN25_3B_PARAMS, ADAPTER_PARAMS, H100_BF16_PEAK, ASSUMED_UTILISATION),
                            device="GPU (H100)", measured=False,
                            source="8·N FLOPs per token (student 6·N incl. adapter, teacher 2·N) at 40% of 989 TFLOP/s bf16"),
    }
    workload = Workload(docs_to_embed=FINEWEB_10BT_DOCS, natural_speech_hours=141_600.0, synthetic_speech_hours=1_416.0 + 128 * 32 * 20 / 3600,
                        train_tokens=24e9 + 1.9e9, embedding_dim=1024)
    estimate = estimate_cost(workload, throughputs, {"embed": cpu_machines, "tts": cpu_machines, "tokenize": cpu_machines, "train": gpus})
    estimate.assumptions = [
        "No GPU was lent to this project, so every speech and embedding figure is a CPU figure measured here (2-core machine); "
        "GPU runs of bench_mimi.py / bench_tts.py / bench_embed_cluster.py replace them when one is available.",
        "Synthetic speech: 1% of the natural hours (1,416 h, the paper's budget) plus the probe, 128 clusters × 32 texts × ~20 s.",
        "Kokoro's speed was measured with random weights (same architecture and FLOPs as the real ones).",
        f"Embedding with bge-large-en-v1.5 costs {BGE_LARGE_OVER_MINILM:.1f}× MiniLM per document (parameter ratio), not measured.",
        "Training throughput is not measured: FLOPs per token of Qwen2.5-3B (3.09B) + adapter (122M) at an assumed 40% utilisation of an H100.",
        f"Wall-clock assumes linear scaling over {cpu_machines} 2-core machines (CPU stages) and {gpus} GPUs (training).",
        "Storage: embeddings float32 × 1024; synthetic audio FLAC at ~24 kB/s (2:1); Mimi codes int16 × 8 codebooks × 12.5 Hz (200 B/s), before Parquet compression.",
    ]
    return estimate
