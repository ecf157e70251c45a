"""Live training charts drawn with braille dots: training and validation loss, and the fidelity estimate."""
from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from .charts import braille_text, plot_series


class LossChart(Widget):
    """Training loss (one colour) and validation loss (another) against the step."""

    COMPONENT_CLASSES = {"loss-chart--train", "loss-chart--eval", "loss-chart--axis",
                         "loss-chart--empty"}
    DEFAULT_CSS = """
    LossChart { height: 10; min-height: 6; }
    LossChart > .loss-chart--train { color: $secondary; }
    LossChart > .loss-chart--eval { color: $warning; text-style: bold; }
    LossChart > .loss-chart--axis { color: $text-muted; }
    LossChart > .loss-chart--empty { color: $text-muted; text-style: italic; }
    """

    train: reactive[tuple] = reactive(tuple, layout=False)
    evals: reactive[tuple] = reactive(tuple, layout=False)
    max_steps: reactive[int] = reactive(0)

    def set_curves(self, train, evals, max_steps: int = 0) -> None:
        self.train = tuple(train)
        self.evals = tuple(evals)
        self.max_steps = max_steps

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        axis = self.get_component_rich_style("loss-chart--axis")
        if not self.train and not self.evals:
            return Text("No loss yet — the curve appears after the first logged step.",
                        style=self.get_component_rich_style("loss-chart--empty"))
        label_w = 7
        plot_w = max(4, width - label_w - 1)
        plot_h = max(2, height - 2)
        xs = [p[0] for p in self.train] + [p[0] for p in self.evals]
        x_hi = max(max(xs), self.max_steps or 0)
        x_lo = min(0, min(xs))
        layers, (x0, x1), (y0, y1) = plot_series(
            [self.train, self.evals], plot_w, plot_h, x_range=(x_lo, x_hi))
        train_rows = braille_text(layers[0])
        train_bits, eval_bits = layers
        out = Text(no_wrap=True, overflow="crop")
        t_style = self.get_component_rich_style("loss-chart--train")
        e_style = self.get_component_rich_style("loss-chart--eval")
        for r in range(plot_h):
            if r == 0:
                label = f"{y1:6.2f} "
            elif r == plot_h - 1:
                label = f"{y0:6.2f} "
            elif r == plot_h // 2:
                label = f"{(y0 + y1) / 2:6.2f} "
            else:
                label = " " * label_w
            out.append(label[:label_w].rjust(label_w), axis)
            out.append("┤" if label.strip() else "│", axis)
            for c in range(plot_w):
                tb, eb = train_bits[r][c], eval_bits[r][c]
                if eb:
                    out.append(chr(0x2800 + (eb | tb)), e_style)
                elif tb:
                    out.append(train_rows[r][c], t_style)
                else:
                    out.append(" ")
            out.append("\n")
        out.append(" " * label_w + "└" + "─" * plot_w + "\n", axis)
        left, right = f"step {int(x0)}", f"{int(x1)}"
        legend = Text()
        legend.append(" " * (label_w + 1))
        if plot_w >= 44:  # beside the fidelity chart there is room for the values, not the axis label
            legend.append(left, axis)
            legend.append("   ")
        legend.append("⣿ train", t_style)
        if self.train:
            legend.append(f" {self.train[-1][1]:.3f}", t_style)
        legend.append("  ")
        legend.append("⣿ val", e_style)
        if self.evals:
            legend.append(f" {self.evals[-1][1]:.3f}", e_style)
        pad = label_w + 1 + plot_w - legend.cell_len - len(right)
        if pad > 0:
            legend.append(" " * pad)
            legend.append(right, axis)
        out.append_text(legend)
        return out


class FidelityChart(Widget):
    """The fidelity estimate at each evaluation (0 = the classifier guesses, 1 = as recognisable as
    the real person), drawn beside the loss; the best evaluation is marked."""

    COMPONENT_CLASSES = {"fidelity-chart--line", "fidelity-chart--best", "fidelity-chart--axis",
                         "fidelity-chart--empty"}
    DEFAULT_CSS = """
    FidelityChart { height: 10; min-height: 6; }
    FidelityChart > .fidelity-chart--line { color: $success; text-style: bold; }
    FidelityChart > .fidelity-chart--best { color: $accent; text-style: bold; }
    FidelityChart > .fidelity-chart--axis { color: $text-muted; }
    FidelityChart > .fidelity-chart--empty { color: $text-muted; text-style: italic; }
    """

    points: reactive[tuple] = reactive(tuple, layout=False)
    best_step: reactive[int | None] = reactive(None)
    max_steps: reactive[int] = reactive(0)

    def set_points(self, points, best_step: int | None = None, max_steps: int = 0) -> None:
        self.points = tuple(points)
        self.best_step = best_step
        self.max_steps = max_steps

    def render(self) -> Text:
        axis = self.get_component_rich_style("fidelity-chart--axis")
        if not self.points:
            return Text("No fidelity estimate yet — it comes with each evaluation.",
                        style=self.get_component_rich_style("fidelity-chart--empty"))
        label_w = 5
        plot_w = max(4, self.size.width - label_w - 1)
        plot_h = max(2, self.size.height - 2)
        ys = [p[1] for p in self.points]
        y_range = (min(0.0, min(ys)), max(1.0, max(ys)))
        x_hi = max(max(p[0] for p in self.points), self.max_steps or 0, 1)
        (line,), _, _ = plot_series([self.points], plot_w, plot_h, x_range=(0, x_hi), y_range=y_range)
        best = [p for p in self.points if p[0] == self.best_step]
        best_bits = plot_series([best], plot_w, plot_h, x_range=(0, x_hi), y_range=y_range)[0][0] if best else None
        style = self.get_component_rich_style("fidelity-chart--line")
        best_style = self.get_component_rich_style("fidelity-chart--best")
        out = Text(no_wrap=True, overflow="crop")
        for r in range(plot_h):
            label = f"{y_range[1]:4.1f} " if r == 0 else f"{y_range[0]:4.1f} " if r == plot_h - 1 else " " * label_w
            out.append(label, axis)
            out.append("┤" if label.strip() else "│", axis)
            for c in range(plot_w):
                if best_bits is not None and best_bits[r][c]:
                    out.append("★", best_style)
                elif line[r][c]:
                    out.append(chr(0x2800 + line[r][c]), style)
                else:
                    out.append(" ")
            out.append("\n")
        out.append(" " * label_w + "└" + "─" * plot_w + "\n", axis)
        legend = Text(" ")
        legend.append(f"now {self.points[-1][1]:.2f}", style)
        if best:
            legend.append(f" ★ {best[0][1]:.2f}", best_style)
        out.append_text(legend)
        return out
