"""Tables and the goals summary of the speed benchmark."""

from contenders import DESCENT, SKLEARN, TORCH_FUSED

# The goals on a CPU machine, from the issue.
LARGE_VS_TORCH, SMALL_VS_TORCH, VS_SKLEARN = 1.3, 3.0, 2.0
ONE_ROW_MICROSECONDS = 40.0
MEMORY_RATIO = 2.0


def print_training(result) -> None:
    print(f"== Training: {result.title} ==")
    header = (
        f"{'contender':34s} {'samples/s':>11s} {'s/run':>8s} {'last loss':>10s} "
        f"{'Descent is':>11s} {'GEMM share':>11s}"
    )
    print(header)
    ours = result.speed(DESCENT)
    for name in result.seconds:
        speed = result.speed(name)
        print(
            f"{name:34s} {speed:11,.0f} {result.seconds[name]:8.3f} "
            f"{result.losses[name]:10.4f} {ours / speed:10.2f}x "
            f"{result.share(name):10.0%}"
        )
    for blas, seconds in result.ceilings.items():
        label = f"GEMM-only ceiling, {blas} BLAS"
        print(f"{label:34s} {result.samples / seconds:11,.0f} {seconds:8.3f}")
    _print_load(result.other_load)


def print_prediction(label, rows, other_load) -> None:
    print(f"== Prediction, {label} (probabilities for raw rows) ==")
    print(f"{'contender':34s} {'1 row (us)':>11s} {'1,024 rows (ms)':>16s}")
    for name, (one, many) in rows.items():
        print(f"{name:34s} {one:11.1f} {many:16.3f}")
    _print_load(other_load)


def _print_load(share) -> None:
    if share is not None:
        print(f"(other processes used {share:.0%} of the CPUs over this case)")
    print()


class Goals:
    """Collects the figures the goals are judged on and prints the verdicts."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.lines: list[tuple[str, str, bool]] = []

    def training(self, key: str, result) -> None:
        if self.device != "cpu":
            return
        wanted = LARGE_VS_TORCH if key == "large" else SMALL_VS_TORCH
        ours = result.speed(DESCENT)
        versus_torch = ours / result.speed(TORCH_FUSED)
        versus_sklearn = ours / result.speed(SKLEARN)
        shares = {name: result.share(name) for name in result.seconds}
        best = max(shares, key=shares.get)
        self._add(
            f"{key}: Descent >= {wanted}x PyTorch fused",
            f"{versus_torch:.2f}x",
            versus_torch >= wanted,
        )
        self._add(
            f"{key}: Descent >= {VS_SKLEARN}x scikit-learn",
            f"{versus_sklearn:.2f}x",
            versus_sklearn >= VS_SKLEARN,
        )
        self._add(
            f"{key}: highest share of the GEMM ceiling",
            f"{shares[DESCENT]:.0%} (best: {best})",
            best == DESCENT,
        )

    def prediction(self, rows) -> None:
        one = rows["Descent Model.predict (loaded)"][0]
        self._add(
            f"one-row predict < {ONE_ROW_MICROSECONDS:.0f} us (784-512-256-10)",
            f"{one:.1f} us",
            one < ONE_ROW_MICROSECONDS,
        )

    def memory(self, ratio: float) -> None:
        self._add(
            f"peak training memory <= {MEMORY_RATIO:.0f}x data + parameters",
            f"{ratio:.2f}x",
            ratio <= MEMORY_RATIO,
        )

    def print(self) -> None:
        if self.device != "cpu":
            print("Goals are set for the CPU; the figures above are for reference.")
            return
        print("== Goals ==")
        for goal, measured, met in self.lines:
            print(f"{'met' if met else 'NOT MET':8s} {goal:52s} {measured}")

    def _add(self, goal: str, measured: str, met: bool) -> None:
        self.lines.append((goal, measured, met))
