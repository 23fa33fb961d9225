// Vocabulary for the synthetic corpus: enough variety that search and ordering have work to do.

export const FIRST_NAMES = [
  'Aisha', 'Ben', 'Chloe', 'Dev', 'Eleanor', 'Femi', 'Grace', 'Hassan', 'Isla', 'Jamal', 'Kate', 'Liam',
  'Maya', 'Nadia', 'Owen', 'Priya', 'Quentin', 'Rosa', 'Sam', 'Tariq', 'Ursula', 'Viktor', 'Wen', 'Xavier',
  'Yasmin', 'Zoe', 'Alice', 'Bola', 'Ciaran', 'Dina', 'Emeka', 'Freya', 'Gareth', 'Hannah', 'Imran', 'Joanna',
  'Kwame', 'Lucia', 'Marek', 'Noor', 'Oliver', 'Patricia', 'Rhys', 'Siobhan', 'Tom', 'Uma', 'Vera', 'William',
  'Yuri', 'Zainab', 'Amir', 'Bridget', 'Connor', 'Delia', 'Erik', 'Fatima', 'Gabriel', 'Helen', 'Ivan', 'Jade',
];

export const LAST_NAMES = [
  'Adeyemi', 'Brennan', 'Chowdhury', 'Davies', 'Evans', 'Fitzgerald', 'Garcia', 'Hughes', 'Iqbal', 'Jones',
  'Kowalski', 'Lopez', 'Mensah', 'Nakamura', 'O\'Connor', 'Patel', 'Quinn', 'Robinson', 'Singh', 'Thompson',
  'Umar', 'Varga', 'Walsh', 'Xu', 'Young', 'Zielinski', 'Ahmed', 'Byrne', 'Campbell', 'Doyle', 'Ellis',
  'Fraser', 'Gallagher', 'Hussain', 'Ibrahim', 'Jackson', 'Khan', 'Lewis', 'Murphy', 'Nowak', 'Okafor',
  'Prasad', 'Reid', 'Shah', 'Taylor', 'Uddin', 'Vaughan', 'Wright', 'Yilmaz', 'Zhang', 'Ali', 'Bennett',
  'Clarke', 'Dunne', 'Edwards', 'Ferreira', 'Green', 'Hall', 'Islam', 'Kelly',
];

export const SUBJECTS = [
  'Strikers', 'Nurses', 'Tenants', 'Students', 'Dockers', 'Teachers', 'Rail workers', 'Council', 'Ministers',
  'Campaigners', 'Refugees', 'Bosses', 'Pensioners', 'Miners', 'Postal workers', 'Doctors', 'Bus drivers',
  'Climate activists', 'Unions', 'Residents',
];

export const VERBS = [
  'defy', 'win', 'fight', 'reject', 'challenge', 'expose', 'resist', 'demand', 'celebrate', 'occupy',
  'protest against', 'vote on', 'walk out over', 'rally against', 'debate',
];

export const OBJECTS = [
  'pay cuts', 'hospital closures', 'rent rises', 'tuition fees', 'privatisation', 'the housing crisis',
  'job losses', 'pension theft', 'anti-union laws', 'school cuts', 'the cost of living', 'fuel poverty',
  'deportations', 'police powers', 'climate inaction', 'zero-hours contracts', 'austerity', 'war spending',
];

export const PLACES = [
  'in Glasgow', 'in Leeds', 'across London', 'in Cardiff', 'in Belfast', 'in Manchester', 'in Bristol',
  'in Sheffield', 'on Merseyside', 'in Newcastle', 'nationwide', 'in Birmingham', 'in Dundee', 'in Hull',
];

export const SENTENCE_WORDS = [
  'workers', 'meeting', 'strike', 'ballot', 'picket', 'government', 'union', 'wages', 'hospital', 'housing',
  'council', 'protest', 'movement', 'march', 'campaign', 'budget', 'inflation', 'landlords', 'profits',
  'minister', 'election', 'members', 'vote', 'solidarity', 'community', 'school', 'energy', 'climate',
  'railway', 'port', 'factory', 'contract', 'management', 'demand', 'victory', 'pressure', 'resistance',
  'action', 'agreement', 'offer', 'cuts', 'funding', 'services', 'rights', 'safety', 'jobs', 'future',
  'organisers', 'activists', 'residents', 'tenants', 'students', 'teachers', 'nurses', 'drivers', 'crowd',
];

export const CONNECTIVES = [
  'said that', 'argued that', 'warned that', 'insisted that', 'reported that', 'believe that', 'know that',
];
