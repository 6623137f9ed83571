#!/usr/bin/env python3
"""Writes expected.json: every test case rendered by Jinja2 configured exactly as HF transformers
renders chat templates (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
HF's tojson / raise_exception / strftime_now, tools=None and documents=None when absent).

Run from this folder: python3 render_reference.py  (needs Jinja2 >= 3.1).
The .jinja files hold each model's `chat_template` string from its tokenizer_config.json / GGUF
(as converted into the GGUFs Ollama's library ships, or as quoted by HF's own jinja tests).
stablelm2_zephyr_1_6b.jinja is the HF alignment-handbook Zephyr template that StableLM 2 Zephyr
documents (<|user|>\n...<|endoftext|>\n<|assistant|>\n); its file was not available to compare.
"""
import datetime
import json
import os

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = datetime.datetime(2024, 9, 15, 12, 0, 0, tzinfo=datetime.timezone.utc)
NOW_UNIX = int(NOW.timestamp())

SYS = {"role": "system", "content": "You are a helpful assistant"}
TURNS = [
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there"},
    {"role": "user", "content": "Who are you"},
    {"role": "assistant", "content": "   I am an assistant   "},
    {"role": "user", "content": "Another question"},
]
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_current_temperature",
        "description": "Get the current temperature at a location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The location, as \"City, Country\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
        },
    },
}]
TOOL_CALL = {"role": "assistant", "tool_calls": [{
    "id": "abcdef123", "type": "function",
    "function": {"name": "get_current_temperature",
                 "arguments": {"location": "Paris, France", "unit": "celsius"}}}]}
TOOL_RESULT = {"role": "tool", "tool_call_id": "abcdef123", "name": "get_current_temperature",
               "content": "22.0"}
WEATHER_Q = {"role": "user", "content": "Hey, what's the temperature in Paris right now?"}

TOKENS = {
    "tinyllama_chat_v1": ("<s>", "</s>"),
    "zephyr_7b_beta": ("<s>", "</s>"),
    "stablelm2_zephyr_1_6b": ("<|endoftext|>", "<|endoftext|>"),
    "llama2_chat": ("<s>", "</s>"),
    "llama3_instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama3_1_instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama3_2_instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "mistral_7b_instruct_v0_1": ("<s>", "</s>"),
    "mistral_7b_instruct_v0_2": ("<s>", "</s>"),
    "mistral_7b_instruct_v0_3": ("<s>", "</s>"),
    "phi3_mini_4k_instruct_2404": ("<s>", "<|endoftext|>"),
    "phi3_mini_instruct": ("<s>", "<|endoftext|>"),
    "phi3_5_mini_instruct": ("<s>", "<|endoftext|>"),
    "qwen2_instruct": ("", "<|im_end|>"),
    "qwen2_5_0_5b_instruct": ("", "<|im_end|>"),
    "qwen2_5_7b_instruct": ("", "<|im_end|>"),
    "chatml_openhermes_2_5": ("<s>", "<|im_end|>"),
}


def hf_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(fmt):
        return NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def cases():
    plain = {
        "full_gen": ([SYS] + TURNS, True),
        "full_nogen": ([SYS] + TURNS, False),
        "nosys_gen": (TURNS, True),
        "nosys_nogen": (TURNS[:4], False),
        "single_gen": ([SYS, TURNS[0]], True),
    }
    for name in TOKENS:
        for case, (messages, gen) in plain.items():
            yield f"{name}/{case}", name, {"messages": messages, "add_generation_prompt": gen}
    for name in ("llama3_1_instruct", "llama3_2_instruct", "qwen2_5_0_5b_instruct",
                 "qwen2_5_7b_instruct", "mistral_7b_instruct_v0_3"):
        sys = {"role": "system", "content": "You answer weather questions."}
        yield f"{name}/tools_gen", name, {
            "messages": [sys, WEATHER_Q], "tools": TOOLS, "add_generation_prompt": True}
        yield f"{name}/tool_call_and_result", name, {
            "messages": [sys, WEATHER_Q, TOOL_CALL, TOOL_RESULT], "tools": TOOLS,
            "add_generation_prompt": True}
    yield "llama3_1_instruct/builtin_tools", "llama3_1_instruct", {
        "messages": [SYS, WEATHER_Q], "builtin_tools": ["brave_search", "wolfram_alpha"],
        "add_generation_prompt": True}
    yield "llama3_1_instruct/date_string", "llama3_1_instruct", {
        "messages": [SYS, TURNS[0]], "date_string": "01 Jan 2025", "add_generation_prompt": True}
    yield "llama3_2_instruct/tools_not_in_user_message", "llama3_2_instruct", {
        "messages": [WEATHER_Q], "tools": TOOLS, "tools_in_user_message": False,
        "add_generation_prompt": True}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    env = hf_env()
    out = {"now_unix": NOW_UNIX, "cases": []}
    for case, name, ctx in cases():
        with open(os.path.join(here, name + ".jinja"), encoding="utf-8") as f:
            source = f.read()
        bos, eos = TOKENS[name]
        render_ctx = {"tools": None, "documents": None, **ctx, "bos_token": bos, "eos_token": eos}
        entry = {"name": case, "template": name + ".jinja", "bos_token": bos, "eos_token": eos,
                 "context": ctx}
        try:
            entry["expected"] = env.from_string(source).render(**render_ctx)
        except jinja2.exceptions.TemplateError as e:
            entry["error"] = str(e)
        out["cases"].append(entry)
    with open(os.path.join(here, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(len(out["cases"]), "cases")


if __name__ == "__main__":
    main()
