"""A live loss chart: training and validation loss drawn with braille dots."""
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
