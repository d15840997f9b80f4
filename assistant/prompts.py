"""The built-in prompt templates: version 1 of each capability's PromptTemplate (editors change them in the admin)."""

PLACEHOLDERS = ("question", "history", "passages", "locale", "customer_group", "price_list", "product")

SYSTEM = (
    "You answer shoppers' questions for an online shop using ONLY the numbered passages below. Cite every sentence "
    "with the passage numbers it relies on, like [1] or [2][3], placed before the full stop. Never state a SKU code, "
    "price, stock level or policy term the passages do not contain. If the passages do not answer the question, say "
    "you cannot confirm it. Answer in the language of the question ({locale})."
)

DEFAULTS = {
    "chat": (
        SYSTEM,
        "Customer group: {customer_group}. Price list: {price_list}.\nThe question is about: {product}.\n\n"
        "Conversation so far:\n{history}\n\nPassages:\n{passages}\n\nQuestion: {question}\n"
        "Answer in at most four cited sentences.",
    ),
    "search": (
        SYSTEM,
        "Customer group: {customer_group}. Price list: {price_list}.\nThe query is about: {product}.\n\n"
        "Search results:\n{passages}\n\n"
        "Query: {question}\nWrite one paragraph (at most three cited sentences) summarizing what the results say "
        "about the query.",
    ),
    "summarize": (
        "You summarize product reviews and documents using ONLY the numbered passages. Cite every sentence with "
        "the passage numbers it relies on, like [1], before the full stop. Answer in {locale}.",
        "Passages:\n{passages}\n\nTask: {question}\nSummarize in at most four cited sentences.",
    ),
    "classify": (
        "You classify text into exactly one label of a fixed set. Reply with JSON matching the schema only.",
        "Passages:\n{passages}\n\nText to classify: {question}\nReply with the label, your confidence (0 to 1) and "
        "the numbers of the passages that support it.",
    ),
    "generate": (
        "You write product description drafts using ONLY attribute values and facts from the numbered passages. "
        "Cite every sentence and highlight with its passage number, like [1]. Reply with JSON matching the schema.",
        "Price list: {price_list}.\n\nPassages:\n{passages}\n\nTask: {question}",
    ),
}
