"""The HF backend (used during training): the embedded model converted to transformers, with and
without a LoRA adapter, writes clean replies and leaves the training state alone."""
from __future__ import annotations

import pytest

from wachat_tui.chat.engine import Sampling
from wachat_tui.eval.backends import HFBackend

from .conftest import make_case

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def base_dir():
    from wachat_tui.train.models import ensure_embedded

    return ensure_embedded()


def test_hf_backend_with_and_without_an_adapter(base_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    cases = [make_case(1, "Maya", "omg yes", context=(("Leo", "Dinner at 7?"),)),
             make_case(2, "Leo", "Sounds good.", context=(("Maya", "omg i passed!!"),))]
    sampling = Sampling(max_tokens=16)
    plain = HFBackend.load(base_dir, name="base", sampling=sampling)
    plain.model.train()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    replies = [plain.generate(c) for c in cases]
    assert torch.equal(torch.rand(3), expected_next)          # the caller's random state is untouched
    assert plain.model.training                                # and training mode is restored
    assert all(isinstance(r, str) and r.strip() for r in replies)
    assert not any(line.startswith(("Maya:", "Leo:")) for r in replies for line in r.split("\n"))

    # a freshly initialised LoRA adapter changes nothing: the same prompt and seed give the same reply
    adapter = tmp_path / "adapter"
    peft_model = get_peft_model(plain.model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    peft_model.save_pretrained(str(adapter))
    tuned = HFBackend.load(base_dir, adapter, name="tuned", sampling=sampling)
    assert [tuned.generate(c) for c in cases] == replies


def test_persona_guidance_in_a_batch_guides_the_carded_cases_only(base_dir):
    """transformers' classifier-free guidance with the prompts without the card as the negative
    prompts: off at 1, a different greedy reply above, and a persona without a card unguided."""
    cases = [make_case(1, "Maya", "omg yes", context=(("Leo", "Dinner at 7?"),)),
             make_case(2, "Leo", "Sounds good.", context=(("Maya", "omg i passed!!"),))]
    cards = {"Leo": "Leo's texting habits: writes in ALL CAPS, one word per bubble, ends every bubble with 😂."}
    greedy = Sampling(temperature=0.0, top_k=1, repeat_penalty=1.0, max_tokens=12, guidance=1.0)
    backend = HFBackend.load(base_dir, name="base", sampling=greedy, cards=cards)
    off, _ = backend.generate_batch(cases)
    backend.sampling = Sampling(temperature=0.0, top_k=1, repeat_penalty=1.0, max_tokens=12, guidance=3.0)
    on, _ = backend.generate_batch(cases)
    assert on[1] != off[1], "guidance left Leo's greedy reply unchanged"
    assert on[0] == off[0], "Maya has no card: her reply is the unguided one"
