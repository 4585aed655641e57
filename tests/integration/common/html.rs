//! A small HTML tree built from html5gum's WHATWG tokenizer, independent of
//! our askama templates. It is stricter than a browser on purpose: a
//! tokenizer error or a mis-nested end tag fails the test, so the page's
//! markup stays explicit and well nested.

use std::collections::HashMap;

/// Elements that never have an end tag (WHATWG "void elements").
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

#[derive(Debug, Clone, Default)]
pub struct Node {
    pub name: String,
    pub attributes: HashMap<String, String>,
    pub children: Vec<Child>,
}

#[derive(Debug, Clone)]
pub enum Child {
    Element(Node),
    Text(String),
}

impl Node {
    /// Parses a whole document; the root is a `#document` node.
    pub fn parse(html: &str) -> Node {
        use html5gum::{DefaultEmitter, Token, Tokenizer};
        let mut stack = vec![Node {
            name: "#document".into(),
            ..Node::default()
        }];
        // The tokenizer reads <script> and <style> contents as raw text,
        // as a browser does, not as markup.
        let mut emitter = DefaultEmitter::<()>::default();
        emitter.naively_switch_states(true);
        for token in Tokenizer::new_with_emitter(html, emitter) {
            let Ok(token) = token;
            match token {
                Token::StartTag(tag) => {
                    let node = Node {
                        name: String::from_utf8(tag.name.0.clone()).unwrap(),
                        attributes: tag
                            .attributes
                            .iter()
                            .map(|(k, v)| {
                                (
                                    String::from_utf8(k.0.clone()).unwrap(),
                                    String::from_utf8(v.0.clone()).unwrap(),
                                )
                            })
                            .collect(),
                        children: Vec::new(),
                    };
                    if VOID.contains(&node.name.as_str()) || tag.self_closing {
                        stack
                            .last_mut()
                            .unwrap()
                            .children
                            .push(Child::Element(node));
                    } else {
                        stack.push(node);
                    }
                }
                Token::EndTag(tag) => {
                    let name = String::from_utf8(tag.name.0.clone()).unwrap();
                    let node = stack.pop().expect("end tag without a start tag");
                    assert_eq!(node.name, name, "mis-nested </{name}>");
                    stack
                        .last_mut()
                        .unwrap()
                        .children
                        .push(Child::Element(node));
                }
                Token::String(text) => {
                    let text = String::from_utf8(text.0.clone()).unwrap();
                    stack.last_mut().unwrap().children.push(Child::Text(text));
                }
                Token::Error(error) => panic!("HTML tokenizer error: {:?}", *error),
                Token::Comment(_) | Token::Doctype(_) => {}
            }
        }
        assert_eq!(stack.len(), 1, "unclosed <{}>", stack.last().unwrap().name);
        stack.pop().unwrap()
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }

    /// The text content with runs of whitespace collapsed, as people read
    /// it: scripts and styles are not text.
    pub fn text(&self) -> String {
        let mut raw = String::new();
        self.collect_text(&mut raw, false);
        raw.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The text content exactly as written, scripts included (a script's
    /// bytes).
    pub fn text_raw(&self) -> String {
        let mut raw = String::new();
        self.collect_text(&mut raw, true);
        raw
    }

    fn collect_text(&self, out: &mut String, scripts: bool) {
        for child in &self.children {
            match child {
                Child::Text(text) => out.push_str(text),
                Child::Element(node)
                    if !scripts && matches!(node.name.as_str(), "script" | "style") => {}
                Child::Element(node) => node.collect_text(out, scripts),
            }
        }
    }

    pub fn elements(&self) -> impl Iterator<Item = &Node> {
        self.children.iter().filter_map(|c| match c {
            Child::Element(node) => Some(node),
            Child::Text(_) => None,
        })
    }

    /// Every descendant element matching `predicate`, in document order.
    pub fn find_all<'a>(&'a self, predicate: &dyn Fn(&Node) -> bool) -> Vec<&'a Node> {
        let mut found = Vec::new();
        self.walk(predicate, &mut found);
        found
    }

    fn walk<'a>(&'a self, predicate: &dyn Fn(&Node) -> bool, found: &mut Vec<&'a Node>) {
        for node in self.elements() {
            if predicate(node) {
                found.push(node);
            }
            node.walk(predicate, found);
        }
    }

    /// Descendants with this tag name.
    pub fn tags<'a>(&'a self, name: &str) -> Vec<&'a Node> {
        self.find_all(&|n| n.name == name)
    }

    pub fn first(&self, name: &str) -> &Node {
        self.tags(name)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no <{name}>"))
    }

    pub fn by_id(&self, id: &str) -> Option<&Node> {
        self.find_all(&|n| n.attr("id") == Some(id))
            .into_iter()
            .next()
    }
}
