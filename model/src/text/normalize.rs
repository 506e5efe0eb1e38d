//! The reference's text normalization, `pre_question` and `pre_caption` (architecture note §3.3).

/// Characters the reference deletes: `, . ' ! ? " ( ) * # : ; ~`.
const DELETED: [char; 13] = [
    ',', '.', '\'', '!', '?', '"', '(', ')', '*', '#', ':', ';', '~',
];

/// Lower-case, delete punctuation, `-` and `/` to spaces, right-strip spaces, keep `max_words`.
pub fn pre_question(question: &str, max_words: usize) -> String {
    let text = strip_punctuation(question);
    truncate_words(text.trim_end_matches(' '), max_words)
}

/// As `pre_question`, plus `<person>` → `person`, whitespace runs collapsed, both ends trimmed.
pub fn pre_caption(caption: &str, max_words: usize) -> String {
    let text = strip_punctuation(caption).replace("<person>", "person");
    let text = collapse_whitespace_runs(&text);
    let text = text.trim_end_matches('\n').trim_matches(' ');
    truncate_words(text, max_words)
}

fn strip_punctuation(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|c| !DELETED.contains(c))
        .map(|c| if c == '-' || c == '/' { ' ' } else { c })
        .collect()
}

/// Python's `re.sub(r"\s{2,}", " ", text)`: runs of two or more whitespace characters.
fn collapse_whitespace_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if is_python_whitespace(c) {
            run.push(c);
            continue;
        }
        flush_run(&mut out, &mut run);
        out.push(c);
    }
    flush_run(&mut out, &mut run);
    out
}

fn flush_run(out: &mut String, run: &mut String) {
    if run.chars().count() >= 2 {
        out.push(' ');
    } else {
        out.push_str(run);
    }
    run.clear();
}

/// `str.isspace()` in Python: Unicode White_Space plus the information separators U+001C..U+001F.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `' '.join(text.split(' ')[:max_words])` when there are more words than that.
fn truncate_words(text: &str, max_words: usize) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    if words.len() > max_words {
        words[..max_words].join(" ")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_rules() {
        assert_eq!(
            pre_question("What's the man DOING?", 50),
            "whats the man doing"
        );
        assert_eq!(
            pre_question("well-known a/b test!  ", 50),
            "well known a b test"
        );
        // Only the right end is stripped, and only spaces; inner runs stay.
        assert_eq!(pre_question(" a  b\t", 50), " a  b\t");
        assert_eq!(pre_question("one two three four", 2), "one two");
        assert_eq!(pre_question("?!.", 50), "");
    }

    #[test]
    fn caption_rules() {
        assert_eq!(
            pre_caption("  A <person> rides  a\t\thorse.\n", 50),
            "a person rides a horse"
        );
        assert_eq!(pre_caption("a\tb", 50), "a\tb", "a single tab is not a run");
        assert_eq!(
            pre_caption("Café, naïve", 50),
            "café naïve",
            "accents are the tokenizer's job"
        );
        assert_eq!(pre_caption("a b c d e", 3), "a b c");
    }

    #[test]
    fn truncation_counts_empty_words_like_python_split() {
        // "a  b".split(' ') is ['a', '', 'b']: three words.
        assert_eq!(pre_question("a  b c", 3), "a  b");
    }
}
