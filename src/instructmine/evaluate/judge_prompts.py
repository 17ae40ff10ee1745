"""Judge prompt templates.

``single`` / ``single_ref`` / ``pair`` are FastChat's MT-Bench LLM-as-a-judge prompts
(``single-v1``, ``single-math-v1``, ``pair-v2``; lm-sys/FastChat, Apache-2.0). ``*_terse``
variants ask for the verdict alone, which small local judges follow far more often. ``flask``
is FLASK's reviewer prompt (kaistAI/FLASK ``gpt_review/src/prompt.jsonl``, with sample answer).
"""

from __future__ import annotations

SINGLE_SYSTEM = "You are a helpful assistant."
SINGLE = (
    "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response "
    "provided by an AI assistant to the user question displayed below. Your evaluation should "
    "consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level "
    "of detail of the response. Begin your evaluation by providing a short explanation. Be as "
    "objective as possible. After providing your explanation, you must rate the response on a "
    'scale of 1 to 10 by strictly following this format: "[[rating]]", for example: '
    '"Rating: [[5]]".\n\n[Question]\n{question}\n\n[The Start of Assistant\'s Answer]\n{answer}\n'
    "[The End of Assistant's Answer]"
)
SINGLE_REF = (
    "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response "
    "provided by an AI assistant to the user question displayed below. Your evaluation should "
    "consider correctness and helpfulness. You will be given a reference answer and the "
    "assistant's answer. Begin your evaluation by comparing the assistant's answer with the "
    "reference answer. Identify and correct any mistakes. Be as objective as possible. After "
    "providing your explanation, you must rate the response on a scale of 1 to 10 by strictly "
    'following this format: "[[rating]]", for example: "Rating: [[5]]".\n\n[Question]\n'
    "{question}\n\n[The Start of Reference Answer]\n{reference}\n[The End of Reference Answer]"
    "\n\n[The Start of Assistant's Answer]\n{answer}\n[The End of Assistant's Answer]"
)
PAIR_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two "
    "AI assistants to the user question displayed below. You should choose the assistant that "
    "follows the user's instructions and answers the user's question better. Your evaluation "
    "should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, "
    "and level of detail of their responses. Begin your evaluation by comparing the two "
    "responses and provide a short explanation. Avoid any position biases and ensure that the "
    "order in which the responses were presented does not influence your decision. Do not allow "
    "the length of the responses to influence your evaluation. Do not favor certain names of the "
    "assistants. Be as objective as possible. After providing your explanation, output your "
    'final verdict by strictly following this format: "[[A]]" if assistant A is better, '
    '"[[B]]" if assistant B is better, and "[[C]]" for a tie.'
)
PAIR = (
    "[User Question]\n{question}\n\n[The Start of Assistant A's Answer]\n{answer_a}\n"
    "[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{answer_b}\n"
    "[The End of Assistant B's Answer]"
)
SINGLE_TERSE_SYSTEM = (
    "You grade answers. Reply with exactly one line: Rating: [[N]] where N is an integer "
    "from 1 (useless) to 10 (excellent). Write nothing else."
)
SINGLE_TERSE = "Question:\n{question}\n\nAnswer:\n{answer}\n\nRate the answer."
# Worked examples sent as earlier chat turns: small judges copy the format from them.
SINGLE_TERSE_SHOTS = (
    ("Name a prime number greater than 10.", "Bananas are yellow.", "Rating: [[1]]"),
    ("What is the capital of France?", "The capital of France is Paris.", "Rating: [[9]]"),
    ("Give one tip for better sleep.", "Sleep is good.", "Rating: [[4]]"),
)
PAIR_TERSE_SHOTS = (
    ("What is 3 + 5?", "8", "3 + 5 = 35", "[[A]]"),
    ("Name a colour.", "Purple.", "Blue is a colour.", "[[C]]"),
    ("Translate 'hello' into French.", "Goodbye.", "Bonjour.", "[[B]]"),
)
PAIR_TERSE_SYSTEM = (
    "You compare two answers. Reply with exactly one of [[A]], [[B]] or [[C]] (tie). "
    "Write nothing else."
)
PAIR_TERSE = (
    "Question:\n{question}\n\nAnswer A:\n{answer_a}\n\nAnswer B:\n{answer_b}\n\n"
    "Which answer is better?"
)
FLASK_SYSTEM = "You are a helpful and precise assistant in checking the quality of the answer."
FLASK = (
    "We would like to request your feedback on the performance of the response of the assistant "
    "to the user instruction displayed below. In the feedback, I want you to rate the quality of "
    "the response in these 3 categories according to each scoring rubric:\n{skills}\n"
    "[Instruction]\n{question}\n\n[Ground truth Answer]\n{reference}\n\n[Assistant's Response]\n"
    "{answer}\n\n[The End of Assistant's Response]\n\nPlease give feedback on the assistant's "
    "responses. Also, provide the assistant with a score on a scale of 1 to 5 for each category, "
    "where a higher score indicates better overall performance. Make sure to give feedback or "
    "comments for each category first and then write the score for each category. Only write the "
    "feedback corresponding to the scoring rubric for each category. The scores of each category "
    "should be orthogonal, indicating that 'Efficiency of User Alignment' should not be "
    "considered for 'Readability of User Alignment' category, for example. \n\nLastly, return a "
    "Python dictionary object that has skillset names as keys and the corresponding scores as "
    "values.\n\n[System]\n"
)
RETRY_RATING = (
    "Your reply did not contain a rating. Reply with only: Rating: [[N]] (N from 1 to 10)."
)
RETRY_PAIR = "Your reply did not contain a verdict. Reply with only [[A]], [[B]] or [[C]]."
RETRY_FLASK = (
    "Your reply did not contain the scores. Reply with only a Python dictionary mapping each "
    "skill name to an integer score from 1 to 5."
)


def flask_skills_text(skills: list[str], rubrics: dict[str, dict]) -> str:
    """The rubric block of FLASK's prompt for the item's skills."""
    blocks = []
    for skill in skills:
        rub = rubrics.get(skill)
        if rub is None:
            raise KeyError(f"FLASK skill {skill!r} has no rubric; known: {', '.join(rubrics)}")
        scoring = "\n".join(f"Score {k}: {v}" for k, v in sorted(rub["Scoring"].items()))
        blocks.append(f"\n{skill}: {rub['Criteria']}\n{scoring}\n")
    return "".join(blocks)
