"""An Ollama ``Modelfile`` for an exported GGUF: template, stop tokens, the persona prompt.

Ollama templates are Go templates, not Jinja, so the model's chat template cannot be copied
as is. We recognise the common chat formats by their markers (ChatML, Llama 3, Gemma, Phi-3,
Zephyr, Mistral/Llama 2 ``[INST]``), each with a Go template and a Python twin of it; the twin's
output is compared with the HF template's own rendering of a sample conversation, so the
Modelfile says whether the template is exact or an approximation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence


@dataclass(frozen=True)
class ChatFormat:
    name: str
    markers: tuple[str, ...]          # all present in the HF template → this family
    go_template: str
    stops: tuple[str, ...]
    render: Callable[[Sequence[dict], str], str]  # (messages, eos) → prompt with generation prompt


def _chatml(messages: Sequence[dict], eos: str) -> str:
    out = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return out + "<|im_start|>assistant\n"


def _llama3(messages: Sequence[dict], eos: str) -> str:
    out = "".join(f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content']}<|eot_id|>"
                  for m in messages)
    return out + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def _gemma(messages: Sequence[dict], eos: str) -> str:
    out, system = "", ""
    for m in messages:
        if m["role"] == "system":
            system = m["content"] + "\n\n"
            continue
        role = "model" if m["role"] == "assistant" else m["role"]
        out += f"<start_of_turn>{role}\n{system}{m['content']}<end_of_turn>\n"
        system = ""
    return out + "<start_of_turn>model\n"


def _phi3(messages: Sequence[dict], eos: str) -> str:
    out = "".join(f"<|{m['role']}|>\n{m['content']}<|end|>\n" for m in messages)
    return out + "<|assistant|>\n"


def _zephyr(messages: Sequence[dict], eos: str) -> str:
    out = "".join(f"<|{m['role']}|>\n{m['content']}{eos}\n" for m in messages)
    return out + "<|assistant|>\n"


def _inst(messages: Sequence[dict], eos: str) -> str:
    out, system = "", ""
    for m in messages:
        if m["role"] == "system":
            system = m["content"] + "\n\n"
        elif m["role"] == "user":
            out += f"[INST] {system}{m['content']} [/INST]"
            system = ""
        else:
            out += f"{m['content']}{eos}"
    return out


FORMATS: tuple[ChatFormat, ...] = (
    ChatFormat(
        "chatml", ("<|im_start|>", "<|im_end|>"),
        '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}'
        '<|im_start|>assistant\n',
        ("<|im_end|>", "<|im_start|>"), _chatml),
    ChatFormat(
        "llama3", ("<|start_header_id|>", "<|eot_id|>"),
        '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>'
        '{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n',
        ("<|eot_id|>", "<|start_header_id|>"), _llama3),
    # Gemma has no system role: the system prompt opens the first user turn.
    ChatFormat(
        "gemma", ("<start_of_turn>", "<end_of_turn>"),
        '{{- $system := "" }}{{- range .Messages }}{{- if eq .Role "system" }}{{ $system = print .Content "\n\n" }}'
        '{{- else }}<start_of_turn>{{ if eq .Role "assistant" }}model{{ else }}{{ .Role }}{{ end }}\n'
        '{{ $system }}{{ .Content }}<end_of_turn>\n{{ $system = "" }}{{- end }}{{- end }}<start_of_turn>model\n',
        ("<end_of_turn>", "<start_of_turn>"), _gemma),
    # Phi-3 before Zephyr: the same role markers, but turns end with <|end|>, not the EOS token.
    ChatFormat(
        "phi3", ("<|user|>", "<|assistant|>", "<|end|>"),
        '{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n',
        ("<|end|>", "<|user|>", "<|endoftext|>"), _phi3),
    ChatFormat(
        "zephyr", ("<|user|>", "<|assistant|>"),
        '{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}{EOS}\n{{ end }}<|assistant|>\n',
        ("{EOS}", "<|user|>", "<|system|>"), _zephyr),
    ChatFormat(
        "inst", ("[INST]", "[/INST]"),
        '{{- $system := "" }}{{- range .Messages }}{{- if eq .Role "system" }}{{ $system = print .Content "\\n\\n" }}'
        '{{- else if eq .Role "user" }}[INST] {{ $system }}{{ .Content }} [/INST]{{ $system = "" }}'
        '{{- else }}{{ .Content }}{EOS}{{ end }}{{- end }}',
        ("[INST]", "{EOS}"), _inst),
)


@dataclass
class TemplateMatch:
    format: ChatFormat | None
    exact: bool

    @property
    def label(self) -> str:
        if self.format is None:
            return "unknown"
        return self.format.name + ("" if self.exact else " (approximate)")


def detect_format(hf_template: str | None, rendered: str | None, messages: Sequence[dict],
                  bos: str = "", eos: str = "</s>") -> TemplateMatch:
    """Which known format the HF template is, and whether our Go template reproduces it exactly.

    ``rendered`` is the HF template's rendering of ``messages`` with the generation prompt.
    """
    if not hf_template:
        return TemplateMatch(None, False)
    for fmt in FORMATS:
        if all(m in hf_template for m in fmt.markers):
            if rendered is None:
                return TemplateMatch(fmt, False)
            ours = fmt.render(messages, eos)
            exact = ours == rendered or (bool(bos) and rendered.startswith(bos) and ours == rendered[len(bos):])
            return TemplateMatch(fmt, exact)
    return TemplateMatch(None, False)


def _quote(text: str) -> str:
    """Triple-quoted Modelfile string (no triple quote may appear inside)."""
    return '"""' + text.replace('"""', '\u201d\u201d\u201d') + '"""'


def render_modelfile(gguf_name: str, match: TemplateMatch, *, system: str | None, eos: str,
                     extra_stops: Sequence[str] = (), title: str | None = None,
                     temperature: float = 0.8, top_p: float = 0.95, repeat_penalty: float = 1.1,
                     num_ctx: int = 2048) -> str:
    """The Modelfile text. Sampling defaults match the chat engine's (short chat replies)."""
    lines = [f"# Ollama Modelfile written by wachat{' for ' + title if title else ''}.",
             "#   ollama create <name> -f Modelfile   then   ollama run <name>",
             f"FROM ./{gguf_name}", ""]
    stops: list[str] = []
    if match.format is not None:
        if not match.exact:
            lines.append(f"# The chat template approximates the model's own ({match.format.name} family).")
        template = match.format.go_template.replace("{EOS}", eos)
        lines += [f"TEMPLATE {_quote(template)}", ""]
        stops += [s.replace("{EOS}", eos) for s in match.format.stops]
    else:
        lines += ["# Chat format not recognised: Ollama falls back to the template stored in the GGUF.", ""]
    for s in [*extra_stops, eos]:
        if s and s not in stops:
            stops.append(s)
    if system:
        lines += ["# Who the model plays (the same prompt wachat trained with).", f"SYSTEM {_quote(system)}", ""]
    for s in stops:
        lines.append('PARAMETER stop "' + s.replace("\\", "\\\\").replace('"', '\\"') + '"')
    lines += [f"PARAMETER temperature {temperature}", f"PARAMETER top_p {top_p}",
              f"PARAMETER repeat_penalty {repeat_penalty}", f"PARAMETER num_ctx {num_ctx}", ""]
    return "\n".join(lines)
